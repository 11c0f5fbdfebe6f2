"""The textbook measures of the customer base: formulas (:mod:`~clvxl.analytics.metrics`),
RFM scores and segments (:mod:`~clvxl.analytics.rfm`), value tiers
(:mod:`~clvxl.analytics.tiers`) and cohort retention (:mod:`~clvxl.analytics.cohorts`)."""
