"""Who may do what: roles, bearer tokens, the one authorisation table, and the law-derived limits
on what the federal side may see."""
