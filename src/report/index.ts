export { loadReport, type ReportInputs } from './load-report.ts';
export { renderReport, REPORT_SECTIONS } from './render-report.ts';
export type { ReportData } from './report-data.ts';
export { readLatestLabels, countLabels, type LabelLineIdentity, type LabelsFileCounts } from './latest-labels.ts';
