enum RefitActivitiesPlaceholder {}
