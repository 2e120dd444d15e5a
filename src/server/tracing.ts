import type { IncomingMessage } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { statementTagOf, type RequestTelemetry, type StatementTrace } from '../shared/request-telemetry.js';

/** Traces over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT); without an endpoint tracing is off and costs nothing. */
export interface TracingConfig {
  /** The collector's base URL (`http://collector:4318`); spans go to `<it>/v1/traces`. */
  otlpEndpoint: string | undefined;
  /** OTEL_SERVICE_NAME: the `service.name` of every span. */
  serviceName: string;
}

export const DEFAULT_TRACING_CONFIG: TracingConfig = { otlpEndpoint: undefined, serviceName: 'booking-api' };

/** Statement text kept on a SQL span (parameters are never in it: they travel apart). */
const MAX_STATEMENT_TEXT = 2000;

/**
 * The spans of one HTTP request: the request's, the GraphQL operation's while it runs, and one per
 * SQL statement, under the operation when there is one. Kysely reports a statement after it ran,
 * with its duration, so its span is made then with its start moved back (no wrapping of the
 * driver), under the parent the request's RequestTelemetry carries (found through
 * request-telemetry.ts's async context, entered only while tracing).
 */
class RequestTrace implements StatementTrace {
  operation: Span | undefined;

  constructor(
    private readonly tracer: Tracer,
    readonly http: Span,
  ) {}

  /** The context whose active span is `span`, to start a child in. */
  under(span: Span): Context {
    return trace.setSpan(ROOT_CONTEXT, span);
  }

  statement(sql: string, durationMs: number): void {
    const end = spanClock();
    const tag = statementTagOf(sql);
    const span = this.tracer.startSpan(
      tag ?? sql.trimStart().split(/\s/, 1)[0].toUpperCase(),
      {
        kind: SpanKind.CLIENT,
        startTime: end - durationMs,
        attributes: { 'db.system.name': 'postgresql', 'db.query.text': sql.slice(0, MAX_STATEMENT_TEXT), ...(tag ? { 'db.query.summary': tag } : {}) },
      },
      this.under(this.operation ?? this.http),
    );
    span.end(end);
  }

  end(status: number): void {
    this.http.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (status >= 500) this.http.setStatus({ code: SpanStatusCode.ERROR });
    this.http.end(spanClock());
  }
}

/**
 * Every span's start and end, on one clock: a statement's span is dated back from its duration on
 * this clock, and OpenTelemetry's own default (its cached hrtime origin) drifts from it by a fraction
 * of a millisecond, enough for a child to end after its parent.
 */
function spanClock(): number {
  return performance.timeOrigin + performance.now();
}

/** This app's tracer; `Tracing.create` answers null when tracing is off, so callers skip it with `?.`. */
export class Tracing {
  private readonly tracer: Tracer;
  private readonly propagator = new W3CTraceContextPropagator();

  private constructor(private readonly provider: TracerProvider) {
    this.tracer = provider.getTracer('booking-api');
  }

  /**
   * A tracer exporting to the OTLP endpoint (batched), or to `exporter` (tests: each span as it
   * ends); null when neither is given. Each app has its own provider: none is registered globally.
   */
  static create(config: TracingConfig, exporter?: SpanExporter): Tracing | null {
    if (!exporter && !config.otlpEndpoint) return null;
    const processor = exporter
      ? new SimpleSpanProcessor({ exporter })
      : new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${config.otlpEndpoint!.replace(/\/+$/, '')}/v1/traces` }) as unknown as SpanExporter });
    return new Tracing(new TracerProvider({ resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }), spanProcessors: [processor] }));
  }

  /** Starts the request's span (continuing the caller's trace from its `traceparent` header) and hangs the request's trace on `telemetry`. */
  startRequest(req: IncomingMessage, telemetry: RequestTelemetry, method: string, route: string | undefined): RequestTrace {
    const parent = req.headers.traceparent ? this.propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter) : ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      route ? `${method} ${route}` : method,
      { kind: SpanKind.SERVER, startTime: spanClock(), attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, ...(route ? { [ATTR_HTTP_ROUTE]: route } : {}) } },
      parent,
    );
    const requestTrace = new RequestTrace(this.tracer, span);
    telemetry.trace = requestTrace;
    return requestTrace;
  }

  /** The GraphQL operation's span, from Apollo's request start to its answer; installed only while tracing. */
  plugin(): ApolloServerPlugin<{ telemetry?: RequestTelemetry }> {
    return {
      requestDidStart: async ({ contextValue }) => {
        const requestTrace = contextValue.telemetry?.trace;
        if (!(requestTrace instanceof RequestTrace)) return;
        const span = this.tracer.startSpan('graphql', { kind: SpanKind.INTERNAL, startTime: spanClock() }, requestTrace.under(requestTrace.http));
        requestTrace.operation = span;
        return {
          willSendResponse: async ({ operation, operationName, response }) => {
            if (operation) {
              span.updateName(operationName ? `${operation.operation} ${operationName}` : operation.operation);
              span.setAttribute('graphql.operation.type', operation.operation);
              if (operationName) span.setAttribute('graphql.operation.name', operationName);
            }
            const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
            if (errors?.length) span.setStatus({ code: SpanStatusCode.ERROR, message: String(errors[0].extensions?.code ?? 'INTERNAL_SERVER_ERROR') });
            span.end(spanClock());
            requestTrace.operation = undefined;
          },
        };
      },
    };
  }

  /** Sends the spans still buffered, then stops. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}
