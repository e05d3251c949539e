"""One rule for the client's address (throttles and the disclosure audit): X-Forwarded-For is
read only through TRUSTED_PROXY_COUNT proxies of our own, from the right."""

from __future__ import annotations

import pytest
from axes.helpers import get_client_ip_address
from django.test import RequestFactory
from django.urls import reverse

from ncedcloud.client_address import client_address
from people.models import DefaultPasswordDisclosure


def request_from(remote: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, None, "10.0.0.2"),
        (0, "203.0.113.7", "10.0.0.2"),  # nobody vouches for the header
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client wrote the left part
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.2"),  # shorter than the chain: not through our proxies
        (1, "not-an-address", "10.0.0.2"),
        (1, "", "10.0.0.2"),
        (1, " 2001:DB8::1 ", "2001:db8::1"),
    ],
)
def test_the_client_is_what_the_outermost_trusted_proxy_saw(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies

    assert client_address(request_from("10.0.0.2", forwarded)) == expected


def test_axes_counts_against_the_same_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = request_from("10.0.0.2", "6.6.6.6, 203.0.113.7")

    assert get_client_ip_address(request) == "203.0.113.7"


@pytest.mark.django_db
def test_a_reveal_records_the_client_behind_the_proxy(admin920_client, world, settings):
    student = world.students(world.psu920).first()
    url = reverse("people:reveal", args=[student.pk])
    headers = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7"}

    admin920_client.post(url, **headers)
    settings.TRUSTED_PROXY_COUNT = 1
    admin920_client.post(url, **headers)

    recorded = DefaultPasswordDisclosure.objects.order_by("id").values_list("ip", flat=True)
    assert list(recorded) == ["10.0.0.2", "203.0.113.7"]
