from typing import Any

from wtforms import Field

class FileField(Field):
    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None: ...

class FileRequired:
    def __init__(self, message: Any = None) -> None: ...
    def __call__(self, form: Any, field: Any) -> None: ...
