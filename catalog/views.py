from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .catalog import catalog_entries_for


@login_required
def catalog_index(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/index.html", {"entries": catalog_entries_for(request.user)})
