"""Verify a consumer: does a client send conforming requests and cope with every response the contract allows?

`ContractMock` (in `mock`) stands in for the provider and checks each request; the hypothesis strategies
(in `strategies`) draw every answer the contract allows. The `contract_mock` pytest fixture (the
package's plugin) starts a routed `ContractMock` and fails the test on any violation.
"""

from chat_contracts.consumer.mock import ConsumerFinding, ContractMock, ContractViolationError
from chat_contracts.consumer.strategies import chat_bodies, error_responses, from_schema, request_bodies, responses

__all__ = [
    "ConsumerFinding",
    "ContractMock",
    "ContractViolationError",
    "chat_bodies",
    "error_responses",
    "from_schema",
    "request_bodies",
    "responses",
]
