"""The inbox: the routing queue's notifications, for the API and the pages."""
