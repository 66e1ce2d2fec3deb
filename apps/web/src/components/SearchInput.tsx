import { forwardRef, useImperativeHandle, useRef } from 'react';
import { useHotkey } from '../lib/hotkeys';
import { Icon } from './Icon';

/** Search box that `/` focuses from anywhere on the page; Escape clears it. */
export const SearchInput = forwardRef<HTMLInputElement, { value: string; onChange: (v: string) => void; placeholder: string; label: string; width?: number }>(
  function SearchInput({ value, onChange, placeholder, label, width }, outer) {
    const ref = useRef<HTMLInputElement>(null);
    useImperativeHandle(outer, () => ref.current!);
    useHotkey('/', (e) => {
      e.preventDefault();
      ref.current?.focus();
      ref.current?.select();
    });
    return (
      <div className="search">
        <Icon name="search" size={14} />
        <input
          ref={ref}
          type="search"
          className="input"
          aria-label={label}
          placeholder={placeholder}
          value={value}
          style={width === undefined ? undefined : { width }}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              onChange('');
              ref.current?.blur();
            }
          }}
        />
        {value === '' && <kbd aria-hidden="true">/</kbd>}
      </div>
    );
  },
);
