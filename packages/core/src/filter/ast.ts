export type FieldPath = { root: FieldRoot; path: (string | number)[] };

export type FieldRoot =
  | 'key'
  | 'value'
  | 'text'
  | 'json'
  | 'headers'
  | 'properties'
  | 'timestamp'
  | 'partition'
  | 'position'
  | 'id'
  | 'size'
  | 'deliveryCount'
  | 'redelivered'
  | 'reason'
  | 'attempts'
  | 'origin';

export const FIELD_ROOTS: readonly FieldRoot[] = [
  'key', 'value', 'text', 'json', 'headers', 'properties', 'timestamp', 'partition', 'position', 'id', 'size',
  'deliveryCount', 'redelivered', 'reason', 'attempts', 'origin',
];

export type Literal = string | number | boolean | null;

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | 'startsWith' | 'endsWith' | 'matches' | 'in';

export type Node =
  | { type: 'literal'; value: Literal }
  | { type: 'list'; items: Literal[] }
  | { type: 'field'; field: FieldPath }
  | { type: 'not'; operand: Node }
  | { type: 'and'; left: Node; right: Node }
  | { type: 'or'; left: Node; right: Node }
  | { type: 'compare'; op: CompareOp; left: Node; right: Node }
  | { type: 'exists'; field: FieldPath };
