"""The OpenTelemetry GenAI semantic conventions' attribute names the services write, in one place.

Cost has no stable attribute yet; it goes as the proposed `gen_ai.usage.cost.amount` (a float, in
`gen_ai.usage.cost.currency`, always USD here) next to the token counts. Prompt and completion text is never
recorded (the conventions make it opt-in; here it stays between the caller and the model), nor tool arguments
and results.
"""

from __future__ import annotations

from decimal import Decimal

from opentelemetry.util.types import AttributeValue

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
REQUEST_TEMPERATURE = "gen_ai.request.temperature"
RESPONSE_MODEL = "gen_ai.response.model"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
COST_AMOUNT = "gen_ai.usage.cost.amount"
COST_CURRENCY = "gen_ai.usage.cost.currency"
AGENT_ID = "gen_ai.agent.id"
AGENT_NAME = "gen_ai.agent.name"
CONVERSATION_ID = "gen_ai.conversation.id"
TOOL_NAME = "gen_ai.tool.name"
TOOL_TYPE = "gen_ai.tool.type"
TOOL_DESCRIPTION = "gen_ai.tool.description"
DATA_SOURCE_ID = "gen_ai.data_source.id"
EMBEDDINGS_DIMENSIONS = "gen_ai.embeddings.dimension.count"


def usage_attributes(
    input_tokens: int, output_tokens: int | None, cost_usd: Decimal | None,
) -> dict[str, AttributeValue]:
    """Tokens (no output tokens for an embeddings call), and the cost when it is known (an unpriced model has none,
    never a 0)."""
    attributes: dict[str, AttributeValue] = {INPUT_TOKENS: input_tokens}
    if output_tokens is not None:
        attributes[OUTPUT_TOKENS] = output_tokens
    if cost_usd is not None:
        attributes[COST_AMOUNT] = float(cost_usd)
        attributes[COST_CURRENCY] = "USD"
    return attributes
