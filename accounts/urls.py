"""Sign-in pages under /accounts/ (the rest of django.contrib.auth.urls stays)."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("login/second-factor/", views.second_factor_step, name="sign-in-second-factor"),
    path("login/enrol/", views.enrol_step, name="sign-in-enrol"),
    path("recovery-codes/", views.recovery_codes, name="recovery-codes"),
]
