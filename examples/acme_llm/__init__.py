"""Example package providing a custom wire protocol for flue-decl's ApiProvider example."""
