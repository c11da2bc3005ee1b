import { useEffect, useState } from "react";

/** Now, refreshed every `ms`: for "in 5m" / "3m ago" texts that must keep moving. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
