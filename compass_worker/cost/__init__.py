"""What LLM calls cost: the price table, the ledger, budgets and the `compass cost` report."""
