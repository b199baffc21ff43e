# TEMPORARY scaffold while the public referral views are written; replaced in full.
from django.http import Http404

from dsr.access import public


@public
def _missing(request, *args, **kwargs):
    raise Http404


start = who = printable = step = check = confirmation = _missing
