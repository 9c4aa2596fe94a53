/** The Grafana data source of every panel: the dashboard's `DS_PROMETHEUS` variable. */
export const datasource = { type: 'prometheus', uid: '${DS_PROMETHEUS}' } as const

/** One PromQL query of a panel. */
export interface PanelQuery {
  readonly expr: string
  readonly legend: string
  /** Unit of this query's series when it differs from the panel's (drawn on a right-hand axis). */
  readonly unit?: string
}

/** What a panel shows, before the layout gives it an id and a place. */
export interface PanelSpec {
  readonly title: string
  readonly description?: string
  readonly type?: 'timeseries' | 'stat'
  /** Grafana unit of the panel's series: `reqps`, `s`, `percentunit`, `short`, `bytes`. */
  readonly unit: string
  readonly queries: readonly PanelQuery[]
  /** Grid columns out of 24. */
  readonly width: number
  /** A dashed line at this value (an objective or a limit). */
  readonly threshold?: number
}

/** A row of panels under a title. */
export interface RowSpec {
  readonly title: string
  readonly panels: readonly PanelSpec[]
}

const panelHeight = 8

/**
 * The dashboard's `panels`: each row header followed by its panels, laid out left to right and
 * wrapped at 24 columns. Ids count up from 1 in that order, so the same rows give the same JSON.
 */
export function layoutPanels(rows: readonly RowSpec[]): unknown[] {
  const panels: unknown[] = []
  let id = 0
  let y = 0
  for (const row of rows) {
    panels.push({
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      id: ++id,
      panels: [],
      title: row.title,
      type: 'row',
    })
    y += 1
    let x = 0
    for (const spec of row.panels) {
      if (x + spec.width > 24) {
        x = 0
        y += panelHeight
      }
      panels.push(panel(spec, ++id, { h: panelHeight, w: spec.width, x, y }))
      x += spec.width
    }
    if (row.panels.length > 0) y += panelHeight
  }
  return panels
}

function panel(spec: PanelSpec, id: number, gridPos: { h: number; w: number; x: number; y: number }) {
  const refId = (index: number) => String.fromCharCode(65 + index)
  const overrides = spec.queries.flatMap((query, index) =>
    query.unit && query.unit !== spec.unit
      ? [
          {
            matcher: { id: 'byFrameRefID', options: refId(index) },
            properties: [
              { id: 'unit', value: query.unit },
              { id: 'custom.axisPlacement', value: 'right' },
            ],
          },
        ]
      : [],
  )
  const type = spec.type ?? 'timeseries'
  const thresholds = {
    mode: 'absolute',
    steps: [
      { color: 'green', value: null },
      ...(spec.threshold !== undefined ? [{ color: 'red', value: spec.threshold }] : []),
    ],
  }
  return {
    datasource,
    ...(spec.description ? { description: spec.description } : {}),
    fieldConfig: {
      defaults: {
        ...(type === 'timeseries'
          ? {
              custom: {
                drawStyle: 'line',
                fillOpacity: 10,
                showPoints: 'never',
                thresholdsStyle: { mode: spec.threshold !== undefined ? 'dashed' : 'off' },
              },
            }
          : {}),
        thresholds,
        unit: spec.unit,
      },
      overrides,
    },
    gridPos,
    id,
    options:
      type === 'timeseries'
        ? {
            legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
            tooltip: { mode: 'multi' },
          }
        : { colorMode: 'value', graphMode: 'area', reduceOptions: { calcs: ['lastNotNull'] } },
    targets: spec.queries.map((query, index) => ({
      datasource,
      expr: query.expr,
      legendFormat: query.legend,
      refId: refId(index),
    })),
    title: spec.title,
    type,
  }
}
