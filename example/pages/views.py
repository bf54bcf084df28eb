"""Views the demo, the tests and the benchmarks ask for."""

import asyncio
import os
import time

from django.http import HttpRequest, HttpResponse, JsonResponse


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello from django-prodserver's example project.\n")


def slow(request: HttpRequest) -> HttpResponse:
    """Sleeps `seconds` (at most 30) before answering: a request still in flight."""
    seconds = min(float(request.GET.get("seconds", "1")), 30.0)
    time.sleep(seconds)
    return HttpResponse(f"slept {seconds}\n")


async def hello_async(request: HttpRequest) -> HttpResponse:
    """An async view: served natively by ASGI servers, through a thread by WSGI ones."""
    await asyncio.sleep(0)
    return HttpResponse("Hello from an async view.\n")


def pid(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"pid": os.getpid(), "ppid": os.getppid()})
