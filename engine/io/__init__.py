"""Files in and out: reading CSV (UTF-8/GBK), xlsx, Parquet and JSON Lines in chunks (tables),
typing cells and collecting rejects (coerce), atomic writes (tables) and their temporaries
(temporary). Imports engine.rules and the cross-cutting modules only."""
