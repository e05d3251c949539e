"""Writes of the rosters outside the import (``rosters.roster_import``): inviting teachers
to set a password, with Django's own password-reset email and token."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import Teacher

logger = logging.getLogger(__name__)


def teachers_invite(*, teachers: Iterable[Teacher], portal: str, actor) -> int:
    """Email each active teacher with an address a link to set their password: Django's
    password-reset email and ``default_token_generator``, so the link works once and expires
    after PASSWORD_RESET_TIMEOUT. ``PasswordResetForm.get_users`` skips accounts with no
    usable password, which a new teacher's is, so the mail is sent here for each teacher.
    ``portal`` is the address the link starts with (``ncedcloud.links.portal_url``).
    Returns how many were invited."""
    form = PasswordResetForm()
    invited = []
    for teacher in teachers:
        user = teacher.user
        if not (teacher.is_active and user.is_active and user.email):
            continue
        context = {
            "email": user.email,
            "portal": portal,
            "site_name": "NCEdCloud Portal",
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "user": user,
            "token": default_token_generator.make_token(user),
            "invited_by": actor,
        }
        form.send_mail(
            "rosters/invite_subject.txt", "rosters/invite_email.txt", context, None, user.email
        )
        invited.append(teacher.pk)
    Teacher.objects.filter(pk__in=invited).update(invited_at=timezone.now())
    logger.info("%s invited %s teacher(s) to set a password", actor.username, len(invited))
    return len(invited)
