import { useQuery } from "@tanstack/react-query";
import { me } from "../../client";

export function useMe() {
  return useQuery({
    queryKey: ["me"],
    queryFn: async () => (await me({ throwOnError: true })).data,
    staleTime: 5 * 60_000,
  });
}
