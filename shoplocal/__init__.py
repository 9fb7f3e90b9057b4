"""Local tooling (never deployed): read `template.yaml`, build API Gateway events, and make moto
keep DynamoDB's guarantees. Used by the tests and the local server."""
