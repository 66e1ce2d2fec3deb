import type { WireMessage } from '../api/types';
import { downloadText, exportFilename, messagesToCsv, messagesToJson } from '../lib/export';
import { Icon } from './Icon';

/** Exports exactly the messages on screen (after filter), as JSON or CSV. */
export function ExportButtons({ messages, destination }: { messages: WireMessage[]; destination: string }) {
  const disabled = messages.length === 0;
  const title = disabled ? 'Nothing on screen to export' : `Export the ${messages.length} messages on screen`;
  return (
    <div className="btn-group" role="group" aria-label="Export">
      <button type="button" className="btn sm" disabled={disabled} title={title} onClick={() => downloadText(exportFilename(destination, 'json'), messagesToJson(messages), 'application/json')}>
        <Icon name="download" size={14} /> JSON
      </button>
      <button type="button" className="btn sm" disabled={disabled} title={title} onClick={() => downloadText(exportFilename(destination, 'csv'), messagesToCsv(messages), 'text/csv')}>
        CSV
      </button>
    </div>
  );
}
