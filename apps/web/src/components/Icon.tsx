/** A handful of 16px stroke icons drawn inline: no icon font, nothing fetched. */
const paths = {
  search: 'M7 12a5 5 0 1 0 0-10 5 5 0 0 0 0 10zM14 14l-3.5-3.5',
  warn: 'M8 1.8 15 14H1L8 1.8zM8 6v4M8 11.8v.4',
  info: 'M8 15A7 7 0 1 0 8 1a7 7 0 0 0 0 14zM8 7v4.5M8 4.6v.4',
  error: 'M8 15A7 7 0 1 0 8 1a7 7 0 0 0 0 14zM5.5 5.5l5 5M10.5 5.5l-5 5',
  check: 'M3 8.5 6.5 12 13 4.5',
  x: 'M4 4l8 8M12 4l-8 8',
  copy: 'M5.5 5.5h8v8h-8zM10.5 5.5v-3h-8v8h3',
  play: 'M5 3l8 5-8 5z',
  pause: 'M5 3v10M11 3v10',
  trash: 'M2.5 4h11M6 4V2.5h4V4M4 4l.7 9.5h6.6L12 4',
  refresh: 'M13.5 8A5.5 5.5 0 1 1 12 4.2M13.5 2v3h-3',
  download: 'M8 2v8.5M4.5 7 8 10.5 11.5 7M2.5 13.5h11',
  sun: 'M8 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM8 1v1.5M8 13.5V15M1 8h1.5M13.5 8H15M3 3l1 1M12 12l1 1M3 13l1-1M12 4l1-1',
  moon: 'M13.5 9.5A6 6 0 0 1 6.5 2.5a6 6 0 1 0 7 7z',
  send: 'M1.5 8 14.5 2 11 14.5 7.5 9.5zM7.5 9.5 14.5 2',
  inbox: 'M1.5 9.5 3.5 3h9l2 6.5v4h-13zM1.5 9.5H5l1 2h4l1-2h3.5',
  layers: 'M8 1.5 14.5 5 8 8.5 1.5 5zM1.5 8 8 11.5 14.5 8M1.5 11 8 14.5 14.5 11',
  grid: 'M2 2h5v5H2zM9 2h5v5H9zM2 9h5v5H2zM9 9h5v5H9z',
  link: 'M6.5 9.5l3-3M7 4.5l1.5-1.5a2.8 2.8 0 0 1 4 4L11 8.5M9 11.5 7.5 13a2.8 2.8 0 0 1-4-4L5 7.5',
  redo: 'M13 6H5.5a3.5 3.5 0 0 0 0 7H9M10.5 3 13.5 6l-3 3',
  lock: 'M4 7h8v7H4zM5.5 7V5a2.5 2.5 0 0 1 5 0v2',
  filter: 'M1.5 2.5h13L9.5 8.5v5l-3-1.5v-3.5z',
  arrowUp: 'M8 13V3M4 7l4-4 4 4',
  arrowDown: 'M8 3v10M4 9l4 4 4-4',
  chevron: 'M6 3.5 10.5 8 6 12.5',
  plus: 'M8 3v10M3 8h10',
  stop: 'M3.5 3.5h9v9h-9z',
} as const;

export type IconName = keyof typeof paths;

export function Icon({ name, size = 16, label }: { name: IconName; size?: number; label?: string }) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 16 16"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.5}
      strokeLinecap="round"
      strokeLinejoin="round"
      role={label === undefined ? undefined : 'img'}
      aria-hidden={label === undefined ? true : undefined}
      aria-label={label}
      focusable="false"
    >
      <path d={paths[name]} />
    </svg>
  );
}
