from django.urls import path

from overview import api

app_name = "overview"

urlpatterns = [
    path("api/overview", api.OverviewApi.as_view(), name="api_overview"),
    path("api/overview/checklist", api.ChecklistApi.as_view(), name="api_checklist"),
]
