"""Page forms: they parse input into what the services take; the services decide what the rules refuse, and
the pages show those errors next to the field (``views._add_service_error``)."""

from django import forms
from django.contrib.auth import get_user_model

from .models import CAPTION_MAX_LENGTH, CLIP_MAX_BYTES, COMMENT_MAX_LENGTH, MESSAGE_MAX_LENGTH, ContactPolicy, Profile
from .notification_types import NotificationType
from .usernames import username_normalise

User = get_user_model()


class SignUpForm(forms.Form):
    """The sign-up service checks the username and password; the page shows its field errors."""

    username = forms.CharField(help_text="Letters, digits, _ and . (not at the end).")
    display_name = forms.CharField(max_length=50, required=False)
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


def _clip_format(head: bytes) -> str | None:
    """The container a file really is, from its first bytes (the browser's content type is only a claim)."""
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    return None


class VideoForm(forms.Form):
    caption = forms.CharField(
        max_length=CAPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Describe your video. @mention friends."}),
    )
    clip = forms.FileField(
        label="Video file (optional)",
        required=False,
        help_text=f"MP4 or WebM, up to {CLIP_MAX_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "video/mp4,video/webm"}),
    )

    def clean_clip(self):
        clip = self.cleaned_data.get("clip")
        if not clip:
            return None
        if clip.size > CLIP_MAX_BYTES:
            raise forms.ValidationError(f"That file is too big: the limit is {CLIP_MAX_BYTES // (1024 * 1024)} MB.")
        head = clip.read(16)
        clip.seek(0)
        kind = _clip_format(head)
        if kind is None:
            raise forms.ValidationError("That isn't an MP4 or WebM video.")
        clip.name = f"clip.{kind}"
        return clip


class CommentForm(forms.Form):
    text = forms.CharField(
        label="Add a comment",
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "Add a comment…", "autocomplete": "off"}),
    )


class MessageForm(forms.Form):
    text = forms.CharField(
        label="Message",
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "Message…", "autocomplete": "off"}),
    )


class NewConversationForm(forms.Form):
    username = forms.CharField(label="Send a message to", max_length=150)

    def clean_username(self):
        username = self.cleaned_data["username"].lstrip("@")
        user = User.objects.filter(username=username_normalise(username)).first()
        if user is None:
            raise forms.ValidationError(f"There is no user @{username}.")
        return user


class _UsernameChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user):
        return user.profile.display_name or user.username


class ShareForm(forms.Form):
    """One form for the three channels; the submit button names the channel. Who a tag or DM share must name is
    the share service's rule."""

    channel = forms.ChoiceField(choices=[("link", "Copy link"), ("tag", "Tag people"), ("dm", "Send to friends")])
    tagged = _UsernameChoice(
        queryset=User.objects.none(), to_field_name="username", required=False, widget=forms.CheckboxSelectMultiple
    )
    recipients = _UsernameChoice(
        queryset=User.objects.none(), to_field_name="username", required=False, widget=forms.CheckboxSelectMultiple
    )
    message = forms.CharField(
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Add a message (optional)", "autocomplete": "off"}),
    )

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tagged"].queryset = contacts
        self.fields["recipients"].queryset = contacts


class SettingsForm(forms.ModelForm):
    muted_types = forms.MultipleChoiceField(
        label="Muted notifications",
        choices=[(t.value, t.value.title()) for t in NotificationType],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Muted types are not delivered to your inbox.",
    )
    dm_policy = forms.ChoiceField(label="Who can send you direct messages", choices=ContactPolicy.choices)
    tag_policy = forms.ChoiceField(label="Who can tag or mention you", choices=ContactPolicy.choices)

    class Meta:
        model = Profile
        fields = ("display_name", "bio", "is_pro", "dm_policy", "tag_policy", "muted_types")
        labels = {"is_pro": "Pro account (analytics)"}
