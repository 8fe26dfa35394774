"""Sign-in pages under /accounts/ (the rest of django.contrib.auth.urls stays)."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
]
