"""What the rules do: the exact overlap/gap/unreachable analysis of kece check (regions),
explain for one customer, pack examples, and the HTML report. May import every layer below it
(rules, backends, io, evaluation); never plans or console."""
