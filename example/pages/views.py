"""Views the demo, the tests and the benchmarks ask for."""

import asyncio
import os
import time
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello from django-prodserver's example project.\n")


# Requests /healthz/ has answered in this process (a gunicorn worker counts the ones its
# master answered before it forked: a warm-up request).
health_requests = 0


def healthz(request: HttpRequest) -> HttpResponse:
    """A health check's page; `X-Answered-Before` says how many this process answered before."""
    global health_requests
    response = HttpResponse("ok\n")
    response["X-Answered-Before"] = str(health_requests)
    health_requests += 1
    return response


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


def tasks(request: HttpRequest) -> HttpResponse:
    """`?add=TEXT` enqueues a django-tasks task that appends TEXT to the task log.

    The page shows the log: what `prodserver tasks` (the database worker) has run so far.
    """
    if not hasattr(settings, "EXAMPLE_TASK_LOG"):
        return HttpResponse(
            "The tasks demo needs django-tasks-db: pip install 'django-prodserver[django-tasks]'\n",
            status=503,
        )
    log = Path(settings.EXAMPLE_TASK_LOG)
    text = request.GET.get("add", "")[:200]
    if text:
        from jobs.database_tasks import record_line

        record_line.enqueue(str(log), text)
    done = log.read_text() if log.exists() else ""
    return HttpResponse(
        (f"Enqueued: {text}\n" if text else "") + f"Run by the worker so far:\n{done}",
        content_type="text/plain",
    )


def celery(request: HttpRequest) -> HttpResponse:
    """`?add=TEXT` sends a Celery task that appends TEXT to EXAMPLE_CELERY_LOG, on the worker."""
    from jobs.celery_tasks import record_line

    text = request.GET.get("add", "")[:200]
    if not text:
        return HttpResponse("Give the line to add: /celery/?add=TEXT\n", status=400)
    result = record_line.delay(settings.EXAMPLE_CELERY_LOG, text)
    return HttpResponse(f"Enqueued: {text} (task {result.id})\n", content_type="text/plain")
