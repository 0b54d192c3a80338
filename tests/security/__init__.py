"""One test module per finding of the security review (issue 11, SPEC §8), plus the role
boundary swept over every URL."""
