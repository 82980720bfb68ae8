"""Templates: ``{{ ... }}`` in configuration values, checked statically and rendered per
value against the environment.

The language is a closed subset of Jinja2's expression syntax (``_grammar`` draws it;
Jinja2's parser reads it, ``_evaluate`` renders it; the test suite checks every generated
template against Jinja2's own rendering).
Templates are rendered per value, after parsing, never on the file text: an environment
value with a newline cannot rewrite the document. Templates made only of environment
lookups with literal defaults (nearly all of them) take a shortcut (``_fast``).
"""

from ._core import (
    MAX_OUTPUT_CHARS,
    MAX_TEMPLATE_CHARS,
    SECRET,
    Namespace,
    Rendered,
    TemplateProblem,
    is_template,
)
from ._render import (
    Reference,
    check_syntax,
    credential_carriers,
    credential_paths,
    env_names,
    is_credential,
    literal_key_in,
    literal_texts,
    references,
    render,
    secret_names,
    templated_fields,
)
from ._syntax import FILTERS, SECRET_NAME

__all__ = [
    "FILTERS",
    "MAX_OUTPUT_CHARS",
    "MAX_TEMPLATE_CHARS",
    "SECRET",
    "SECRET_NAME",
    "Namespace",
    "Reference",
    "Rendered",
    "TemplateProblem",
    "check_syntax",
    "credential_carriers",
    "credential_paths",
    "env_names",
    "is_credential",
    "is_template",
    "literal_key_in",
    "literal_texts",
    "references",
    "render",
    "secret_names",
    "templated_fields",
]
