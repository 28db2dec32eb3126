"""The matching engine: pure rules and solvers that import no web framework or database."""
