"""The memory benchmark's synthetic corpus: team-chat memories about people, things, places and dates,
and questions about them; drawn from the caller's seeded random.Random, so a run can be repeated."""

from __future__ import annotations

import random

PEOPLE = ["Olena", "Dmytro", "Iryna", "Taras", "Sofia", "Petro", "Maria", "Andriy", "Oksana", "Bohdan", "Yulia",
          "Mykola", "Kateryna", "Serhiy", "Natalia", "Viktor", "Halyna", "Roman", "Larysa", "Ostap", "Anna", "Yurii",
          "Svitlana", "Oleh", "Tetiana", "Vasyl", "Liudmyla", "Ihor", "Nadiia", "Stepan", "Zoriana", "Maksym",
          "Khrystyna", "Volodymyr", "Ruslana", "Artem", "Marta", "Denys", "Vira", "Bohdana", "Lev", "Solomiia",
          "Hryhorii", "Daryna", "Yaroslav", "Uliana", "Pavlo", "Alina", "Kostiantyn", "Myroslava"]
ADJECTIVES = ["quarterly", "draft", "public", "internal", "revised", "legacy", "shared", "annual", "urgent", "new",
              "monthly", "signed", "final", "open-source", "regional", "pilot", "second", "community", "secure",
              "mobile", "weekly", "translated", "archived", "experimental", "joint"]
NOUNS = ["budget", "report", "contract", "proposal", "listing", "dashboard", "module", "app", "guide", "score",
         "gateway", "logo", "call", "checklist", "bridge", "programme", "bounty", "release", "plan", "migration",
         "fee", "roadmap", "newsletter", "invoice", "workshop", "survey", "audit", "wallet", "charter", "website",
         "podcast", "hackathon", "grant", "policy", "forum", "contest", "sponsorship", "dataset", "translation",
         "election"]
PLACES = ["Lviv", "Kyiv", "Odesa", "Kharkiv", "Dnipro", "Uzhhorod", "Chernivtsi", "Poltava", "Warsaw", "Berlin",
          "Vilnius", "Prague", "Lisbon", "Tbilisi", "the co-working space", "the main office", "the community hub",
          "the conference hall", "the library", "the rooftop cafe"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
FOODS = ["borscht", "sushi", "vegan pizza", "green tea", "black coffee", "varenyky", "falafel", "ramen", "salad",
         "pasta", "banosh", "deruny", "hummus", "cheesecake", "kombucha"]
TEMPLATES = [
    "{p} said the {t} should be ready by {d}.",
    "{p} prefers {f} and asked us not to order {f2} again.",
    "The {t} was discussed in {pl}; {p} will follow up on {d}.",
    "We agreed to pay {n} USDC to {p} for the {t}.",
    "{p} moved the review of the {t} to {d} in {pl}.",
    "Remind me to call {p} about the {t} on {d}.",
    "{p} found a problem in the {t} and {p2} is fixing it.",
    "The vote on the {t} ends on {d}; {p} expects {n} participants.",
    "{p} is travelling to {pl} on {d} to present the {t}.",
    "{p} and {p2} disagree about the {t}; a decision is due on {d}.",
    "The {t} costs {n} euros and {p} approved it.",
    "{p} is allergic to {f} - keep it off the menu in {pl}.",
    "{p2} replaced {p} as the owner of the {t}.",
    "Ask {p} for the password of the {t} before {d}.",
]
DETAILS = ["It is blocked by legal review.", "Nobody has started on it yet.", "The first draft looked promising.",
           "It depends on the bank transfer.", "The designers want more time.", "It was requested by the board.",
           "Translations into English and Polish are needed.", "The budget might be cut by ten percent.",
           "Volunteers from three cities joined.", "It needs a security review first.", "", "", "", ""]
QUESTIONS = [
    "when is the {t} due?", "what food does {p} like?", "how much are we paying for the {t}?",
    "who is fixing the {t}?", "where was the {t} discussed?", "what should I call {p} about?",
    "who owns the {t} now?", "what is {p} allergic to?", "where is {p} going to present?",
    "what did {p} decide about the {t}?",
]


def thing(rng: random.Random) -> str:
    return f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"


def memory_text(rng: random.Random, index: int) -> str:
    text = rng.choice(TEMPLATES).format(
        p=rng.choice(PEOPLE), p2=rng.choice(PEOPLE), t=thing(rng), pl=rng.choice(PLACES),
        d=f"{rng.choice(MONTHS)} {rng.randint(1, 28)}", f=rng.choice(FOODS), f2=rng.choice(FOODS),
        n=rng.randint(10, 5000))
    return f"{text} {rng.choice(DETAILS)} (note {index})".replace("  ", " ")  # unique: no two deduplicate


def question(rng: random.Random) -> str:
    return rng.choice(QUESTIONS).format(p=rng.choice(PEOPLE), t=thing(rng))
