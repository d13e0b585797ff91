"""Derived features: features.yaml (featureset), base features from a transactions file
(transactions), population cut-points, RFM, pyramid and CLV (calibration), and the derive/calibrate
API (derive). Imports engine.rules, engine.io and the cross-cutting modules."""
