"""Shopify's Admin GraphQL API, served by graphql-core from an SDL schema."""
