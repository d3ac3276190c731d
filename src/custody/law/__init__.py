"""The law engine: which federal, state and local rules in force on a date decide each action a
federal immigration request asks of a custodial agency, with citations and a plain explanation."""
