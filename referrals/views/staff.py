# TEMPORARY scaffold while the staff referral views are written; replaced in full.
from django.http import Http404


def _missing(request, *args, **kwargs):
    raise Http404


queue = create = mine = detail = start_review = request_information = record_review = _missing
assign = decide = recipient_add = recipient_change = attachment = _missing
