/** The operations the sandbox opens with: a tour of the API a newcomer can run one by one. */
export const EXAMPLE_OPERATIONS = `# Welcome to the Booking API sandbox. Pick an operation with the run button.
# Catalog data is public; bookings need a token: paste one into the Headers tab
# as {"Authorization": "Bearer <token>"} (npm start prints demo tokens).

query Catalog {
  business(slug: "north-end-barbers") {
    id
    name
    timeZone
    services { totalCount nodes { id name durationMinutes priceCents currency } }
    partners(activeOnly: true) { nodes { id name activeBookingCount } }
  }
}

query FreeSlots($partnerId: ID!, $from: DateTime!, $to: DateTime!) {
  node(id: $partnerId) {
    ... on Partner { name slots(from: $from, to: $to, status: AVAILABLE) { id startsAt endsAt } }
  }
}

query Dashboard {
  viewer { role business { slug } }
  business(slug: "north-end-barbers") {
    bookings(first: 10, filter: { status: [PENDING, CONFIRMED] }) {
      edges { cursor node { id startsAt status totalCents currency customer { name } partner { name } service { name } payments { status amountCents } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}

mutation Book($serviceId: ID!, $startsAt: DateTime!, $customerId: ID) {
  bookingCreate(input: { serviceId: $serviceId, startsAt: $startsAt, customerId: $customerId }) {
    booking { id status startsAt endsAt partner { name } slots { startsAt } }
    userErrors { field message code }
  }
}

mutation Cancel($bookingId: ID!) {
  bookingCancel(input: { bookingId: $bookingId, reason: "Changed my plans" }) {
    booking { id status cancelReason }
    userErrors { field message code }
  }
}

# Live booking events (staff or partner token), over WebSocket; book or cancel in another tab.
subscription Events($businessId: ID!) {
  bookingEvents(businessId: $businessId) {
    cursor type occurredAt status startsAt
    booking { id customer { name } service { name } partner { name } }
  }
}

# Catching up after a disconnection: the events after the last cursor you handled.
query Missed($businessId: ID!, $after: String) {
  bookingEventsSince(businessId: $businessId, after: $after) {
    events { cursor type status booking { id } }
    endCursor
    hasMore
  }
}
`;
