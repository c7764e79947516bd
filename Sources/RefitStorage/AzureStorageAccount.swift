enum RefitStoragePlaceholder {}
