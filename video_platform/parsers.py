"""Request parsers: any body the parser can't take is a 400 ``{"detail": …}``, never a 500."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:  # nesting deeper than Python's json module can follow
            raise ParseError("JSON parse error - nested too deeply.") from error
