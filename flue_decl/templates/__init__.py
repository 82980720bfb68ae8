"""Templates: ``{{ ... }}`` in configuration values, checked statically and rendered per
value against the environment.

Templates are rendered per value, after parsing, never on the file text: an environment
value with a newline cannot rewrite the document. Templates made only of environment
lookups with literal defaults (nearly all of them) are evaluated directly (``_fast``);
anything else goes to Jinja's sandbox, narrowed to what a configuration value needs
(``_jinja``, the only module that imports jinja2, and only when such a template is met).
"""

from ._core import (
    MAX_OUTPUT_CHARS,
    MAX_TEMPLATE_CHARS,
    SAFE_FILTERS,
    Rendered,
    TemplateProblem,
    env_names,
    is_template,
)
from ._render import check_syntax, render, templated_fields

__all__ = [
    "MAX_OUTPUT_CHARS",
    "MAX_TEMPLATE_CHARS",
    "SAFE_FILTERS",
    "Rendered",
    "TemplateProblem",
    "check_syntax",
    "env_names",
    "is_template",
    "render",
    "templated_fields",
]
