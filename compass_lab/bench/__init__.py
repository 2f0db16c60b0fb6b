"""The accuracy benchmark: the engine over a split of lab scenarios, beside two baselines."""
