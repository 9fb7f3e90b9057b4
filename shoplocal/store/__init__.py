"""The embedded AWS store: moto's DynamoDB (and Secrets Manager) served on a local port, made to
keep DynamoDB's guarantees, with its data kept on disk between runs."""
