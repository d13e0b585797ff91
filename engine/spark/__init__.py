"""Running kece on Apache Spark: the session (pyspark imported only here, only when asked for),
Spark tables in and Parquet out, evaluate and derive over a Spark DataFrame with the single-machine
code run on each piece. May import rules, backends, io, features and evaluation."""
