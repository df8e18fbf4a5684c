# clinic holds no models. Django sends post_migrate only to apps with a models module, and
# clinic's post_migrate handler (clinic.apps) keeps the role groups in step.
