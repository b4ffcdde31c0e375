"""The one error for refused input: it names the field (e.g. `facts.birthday.day`, `topics[0].id`)
and says what is wanted, never echoing the value, which may be personal. Each module's own errors
(FactError, QuizError, ...) are this, named for where they come from."""


class FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
