// A store thread whose module fails while loading.
throw new Error("the store thread failed to load on purpose");
