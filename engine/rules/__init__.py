"""The rule-file format: safe YAML with locations (yamlnodes), literals and unary tests, the typed
spec mirroring the file (and its JSON Schema), the loader that gives every error with file:line, and
the frozen Rulebook the engine runs. Imports only engine.errors and engine.messages."""
