"""Operator views of delivery: events, what each produced and why, inbox rows, and the health overview.

Staff may see who did what here; the privacy rule still decides what a recipient was shown, and every
"actor" cell says when the recipient's notification hides it. Who shared a video is shown only to staff who
may open shares (superusers and admins): Support and Moderator see share counts, never a sharer.
"""

from django.contrib import admin

from . import core_pages, events, notifications  # noqa: F401 (each registers its admin pages)

admin.site.site_header = "Shareloop operations"
admin.site.site_title = "Shareloop admin"
admin.site.index_template = "admin/shareloop_index.html"
