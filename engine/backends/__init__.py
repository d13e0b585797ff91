"""Evaluating a scheme's rules: hit policies (results), numpy masks for many customers
(vectorized), durable_rules for one (durable), and which customers a scheme applies to (scope).
Imports engine.rules and the cross-cutting modules only."""
