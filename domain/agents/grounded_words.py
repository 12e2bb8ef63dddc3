"""The fixed words of grounded replies, in Ukrainian and English: every fact in a reply comes from a tool
result or a memory; these templates only frame them."""

from __future__ import annotations

import re

from domain.agents.language import Language

STATUS = {
    "uk": {"todo": "до виконання", "in_progress": "в роботі", "done": "виконано", "active": "активний"},
    "en": {"todo": "to do", "in_progress": "in progress", "done": "done", "active": "active"},
}

TEXT: dict[Language, dict[str, str]] = {
    "uk": {
        "projects": "Проєкти {microdao}:",
        "project_line": "• {name} — {status}, відкритих задач: {open}",
        "tasks": "Задачі проєкту {project} ({which}):",
        "latest": "найновіші",
        "open": "відкриті",
        "none": "У проєкті {project} таких задач немає ({which}).",
        "task_line": "• {title} — {status}; виконавець: {assignee}; створено {date}, автор: {author}",
        "nobody": "не призначено",
        "creator": "Задачу {title} створив(ла) {author} {date} (статус: {status}).",
        "no_match": "Не знайшла такої задачі серед останніх задач проєктів.",
        "created": "Створила задачу {title} у проєкті {project} (статус: {status}, id {id}).",
        "result": "{tool}:",
        "failed": "Інструмент {tool} не спрацював ({error}).",
        "missing": "Бракує даних для {tool}: {names}.",
        "which_project": "У якому проєкті? Є: {names}.",
        "memory": "З моїх нотаток ({date}): {text}",
        "told": "Мені сказали ({date}): {text}",
        "noted": "Запам'ятала.",
        "intro": ("Я — {name}, асистент {microdao}: розповідаю про проєкти й задачі (що нового, що відкрито "
                  "чи виконано, хто створив), створюю задачі. Про це в моїх інструментах і нотатках нічого немає."),
    },
    "en": {
        "projects": "Projects of {microdao}:",
        "project_line": "• {name} — {status}, open tasks: {open}",
        "tasks": "Tasks of {project} ({which}):",
        "latest": "latest",
        "open": "open",
        "none": "{project} has no such tasks ({which}).",
        "task_line": "• {title} — {status}; assignee: {assignee}; created {date} by {author}",
        "nobody": "nobody",
        "creator": "The task {title} was created by {author} on {date} (status: {status}).",
        "no_match": "I found no such task among the latest tasks of the projects.",
        "created": "Created the task {title} in {project} (status: {status}, id {id}).",
        "result": "{tool}:",
        "failed": "The tool {tool} failed ({error}).",
        "missing": "{tool} needs: {names}.",
        "which_project": "Which project? There are: {names}.",
        "memory": "From my notes ({date}): {text}",
        "told": "I was told ({date}): {text}",
        "noted": "Noted.",
        "intro": ("I am {name}, the assistant of {microdao}: I tell you about its projects and tasks (what is "
                  "new, open or done, who created what) and create tasks. My tools and notes have nothing on that."),
    },
}

REMEMBER_WORDS = ("remember", "note that", "запам'ятай", "запамʼятай", "запам’ятай", "занотуй")
CREATOR_WORDS = ("who created", "who made", "who added", "created by", "хто створив", "хто додав", "автор")


def quoted(text: str, language: Language) -> str:
    """Names and titles are quoted: they keep their own language inside a reply in another one."""
    return f"«{text}»" if language == "uk" else f"“{text}”"


def status_label(status: str, language: Language) -> str:
    return STATUS[language].get(status, status)


# Ukrainian stems -> English words, for questions about memories kept in English (the embedding is English-
# trained and full text stems by language, so "бета-запуск" never meets "beta launch"). Small on purpose:
# the words of this agent's domain; a stem matches the start of a word.
UK_EN = (("бета", "beta"), ("запуск", "launch"), ("коли", "when"), ("план", "plan"), ("дедлайн", "deadline"),
         ("термін", "deadline"), ("звіт", "report"), ("казначейств", "treasury"), ("специфікац", "spec"),
         ("демо", "demo"), ("інвестор", "investor"), ("зустріч", "meeting"), ("реліз", "release"),
         ("контракт", "contract"), ("макет", "mockups"), ("маркетплейс", "marketplace"))
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_CYRILLIC = re.compile(r"[а-яіїєґʼ'’]+", re.IGNORECASE)


def english_query(question: str) -> str:
    """The question's names in Latin letters and its known words in English; "" when no word is known."""
    known = [english for word in _CYRILLIC.findall(question.lower()) for stem, english in UK_EN
             if word.startswith(stem)]
    return " ".join([*known, *_LATIN.findall(question)]) if known else ""
