import { errorMessage } from "../../lib/api";

export function ErrorMessage({ error, title = "Something went wrong" }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <div role="alert" className="error-box">
      <strong>{title}:</strong> {errorMessage(error)}
    </div>
  );
}
