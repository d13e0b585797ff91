"""The evaluation API: choosing schemes, one customer (evaluate) and a file in chunks with
rejects and a summary (batch). Imports engine.rules, engine.backends, engine.io (and features only
through the FeatureHook protocol)."""
