from django.urls import path
from pages import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("slow/", views.slow, name="slow"),
    path("pid/", views.pid, name="pid"),
    path("async/", views.hello_async, name="async"),
    path("tasks/", views.tasks, name="tasks"),
    path("celery/", views.celery, name="celery"),
]
